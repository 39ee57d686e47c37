"""Widget: the embeddable personalizer (config API, shopper uploads, web component, demo page)."""
