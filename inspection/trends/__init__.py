"""Trends: series over time, control limits from a baseline, and the Western Electric / Nelson
rules that say a process is drifting before it makes scrap."""
