"""Mail templates per tenant: the catalog of kinds and variables (``catalog``), sandboxed
rendering (``render``), the tenant's own sources and ``render_mail`` (``service``), the table
(``models``)."""
