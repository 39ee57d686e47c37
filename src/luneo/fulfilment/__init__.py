"""Fulfilment hand-off: production packs to a print-on-demand partner (Printful) or a print shop."""
