"""The scoped data interface: the layer both the screens (``app.views``) and the
REST API (``app.api``) stand on. Rows are read through the one visibility scope
(``interface.ScopedInterface``), clients are picked through ``clients``, and every
write passes the field rules (``integrity``)."""
