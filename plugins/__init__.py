"""Built-in plugins, each declared under the ``hub.plugins`` entry-point group."""
