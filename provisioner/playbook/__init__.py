"""The playbook: its format declared once (:mod:`.model`), loading with positions (:mod:`.load`, :mod:`.yamlpos`),
validation and its error lines, the JSON Schema, secret references."""
