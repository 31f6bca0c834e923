"""ppl_mle."""
