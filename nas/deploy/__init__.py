"""Shipping a trained model: its export with weights and task head (`export_model`), what an app needs beside it
(`app`), and the dev metric of the shipped file against the torch model (`evaluate`, `paired`).

The last step of search → pick → train → fine-tune → ship. It reads the model directories the training commands
write (`model_dir`), so it imports `nas.distill`'s readers (GLUE, vocabulary, metrics); nothing of the search
imports this package (DESIGN.md, "Deployment").
"""
