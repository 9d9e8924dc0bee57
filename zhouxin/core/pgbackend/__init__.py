"""Django's PostgreSQL backend, with bulk writes that send their column arrays in binary.

settings.DATABASES names this engine for every PostgreSQL alias.  Django writes a bulk INSERT
on PostgreSQL as `SELECT * FROM UNNEST((%s)::type[], …)`, one array parameter per column.  With
server-side binding (settings.POSTGRES_OPTIONS) psycopg sends an array of strings in the text
format, which its pure-Python ListDumper builds element by element, quoting each with a regular
expression: 17 % of the intake worker's time (docs/performance.md, "Request intake").  In the
binary format (`%b`) psycopg builds the same arrays about four times faster (400 rows of ten
columns: 3.8 ms of CPU instead of 15 ms), and PostgreSQL reads them faster too.  The rows
written are the same; only the wire format of the parameters changes.
"""
