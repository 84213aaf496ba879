"""Analytics: how the team is doing over a window of time (GET /analytics/summary)."""
