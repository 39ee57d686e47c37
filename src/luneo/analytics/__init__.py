"""Analytics: the widget's funnel events, stored per brand, and the funnel they make."""
