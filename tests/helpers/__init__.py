"""Helpers shared by tests: building PDFs, DOCX and images on the fly."""
