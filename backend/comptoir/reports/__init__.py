"""Reports that read across domains and write nothing: the day's reconciliation."""
