"""`nas export RUN`: a searched pick as files to train or time, untrained.

`formats` writes the arch as `arch.json` and `config.json`, ONNX, a TVM library and TFLite (LiteRT);
`train_guide` adds `teacher.json` and the `TRAIN.md` that trains it. A trained model's export (with its
weights and task head) is `nas.deploy`.
"""
