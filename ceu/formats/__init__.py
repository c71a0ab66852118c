"""The site's own date formats (FORMAT_MODULE_PATH): one way to print a date on every page."""
