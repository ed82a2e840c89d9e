"""The consolidated report: the model at a date, its reads, and the md/html/docx/xlsx writers."""
