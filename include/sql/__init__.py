"""The SQL files of techreform (package data): ddl/ (the schema) and one folder per step; see README."""
