"""Stage 4: configuration defects, secrets in any layer, risky files and licences."""
