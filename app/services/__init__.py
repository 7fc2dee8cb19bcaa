"""Changes that touch the database. Each loads its rows through the scope (the view
passes scoped rows), checks, changes, and commits once."""
