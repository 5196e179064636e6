"""Products and their variants (SKUs): names, barcodes, options, prices, weights."""
