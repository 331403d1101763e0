"""Links to the line and the plant: result sinks and trigger inputs (PLC, local commands)."""
