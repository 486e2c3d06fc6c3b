"""Entry points: the `dunning` command (`main`, with verbs split by subject: `desk`, `law`, `letters`) and the
`dunning run` supervisor (`engine`). The outermost layer: it may import every other part of `dunning`, and
`tasks`/`flows` and Prefect, but only inside the verbs that talk to the engine, so simple verbs answer at once.
Nothing else in `dunning` imports from here."""
