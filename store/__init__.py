"""The store: SQLModel tables, engine creation, migrations and the queries other layers use."""
