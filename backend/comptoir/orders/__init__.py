"""Orders: capture from every channel, reservation, lifecycle, edits and the timeline."""
