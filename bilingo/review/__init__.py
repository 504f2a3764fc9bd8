"""Review before render: SRT round trips, approval, the local review page."""
