"""The PLC handshake: the signal map, the handshake itself, and its Modbus TCP transports."""
