"""dondoc scheduler package."""
