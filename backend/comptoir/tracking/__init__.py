"""The customer's tracking page: an order followed by its unguessable token, live."""
