"""Local stand-ins for brand clouds: real HTTP servers on loopback that lockhub can reach."""
