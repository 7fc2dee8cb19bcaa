"""Pure rules: no Flask, no session, no clock. Tested without an app."""
