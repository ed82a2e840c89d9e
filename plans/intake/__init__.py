"""Plan intake: a plan's own document (DOCX, PDF, text) read into a draft plan file to check."""
