"""Stand-ins for the line's cameras (RTSP, HTTP, GigE Vision peers), for tests and ``lineside bench``."""
