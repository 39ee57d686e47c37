"""Commerce: carts, server-priced orders, coupons, shipping and tax, checkout and order status."""
