module github.com/loadstar/loadstar

go 1.26
