"""dondoc bot package."""
