"""dondoc handlers package."""
