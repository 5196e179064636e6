"""The live feed: WS /ws, fanned out across processes."""
