"""dondoc storage package."""
