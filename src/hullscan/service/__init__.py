"""The continuous scanning service: store, API, workers, scheduler, webhooks, Harbor adapter."""
