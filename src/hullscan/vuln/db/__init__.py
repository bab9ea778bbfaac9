"""The local vulnerability database: schema, feed loaders, builder, reader and updater."""
