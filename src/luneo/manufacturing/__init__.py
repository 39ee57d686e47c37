"""Manufacturing: work orders per order item, production packs, bundles, print checks."""
