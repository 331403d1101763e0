"""Inspection tools: each looks at one part's frame and returns a ToolResult (never raises)."""
