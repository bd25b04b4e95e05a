"""Local stand-ins for brand clouds: real HTTP servers on loopback, faithful to each brand's API,
that a lockhub server process can reach."""
