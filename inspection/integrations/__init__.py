"""Links to the line and the plant (PLC, MQTT, databases) as result sinks and trigger sources."""
