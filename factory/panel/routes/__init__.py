"""One router per screen: auth (log-in, language), line, queue, plan, green, stock, review, settings."""
