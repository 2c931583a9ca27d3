"""The HTTP service: JSON API, OpenAI-compatible endpoint, clause pages and the widget."""
