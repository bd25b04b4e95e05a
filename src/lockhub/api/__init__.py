"""HTTP edge: the route table, parameter parsing, envelopes, auth and one module per resource."""
