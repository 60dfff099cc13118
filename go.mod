module strongroom

go 1.26.8

require github.com/hashicorp/vault v1.21.4
