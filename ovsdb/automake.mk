# ovsdb/
