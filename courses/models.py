# The CE domain (catalog, learning, assessment, credentials) grows here; see DESIGN.md.
