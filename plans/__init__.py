"""dondoc plans package."""
