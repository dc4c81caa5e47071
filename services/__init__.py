"""The four Bình Yên services: one bounded context and one MongoDB database each."""
