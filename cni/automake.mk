# cni/
