"""BigGAN-deep: catalog, strict loading, inference module, backends and the show generator."""
