"""Request and response shapes of the API, one module per domain (spec section 12.1).

One naming scheme: ``<Thing>Create`` is the body that creates one, ``<Thing>Update`` the body of
a PATCH (only the fields sent change), ``<Thing>Public`` one as the API shows it, and
``<Thing>Page`` a page of them. An action on a thing is ``<Thing><Action>`` (``TicketMerge``,
``MacroApply``) and its answer ``<Thing><Action>Result``. Bodies built on ``common.Strict``
refuse unknown fields.
"""
